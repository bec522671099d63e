//! One settings tree for the service and the tools around it.
//!
//! Layers, later wins: defaults in code (so the binary runs with environment variables alone),
//! an optional TOML file (`--config`; `deploy/pagewire.toml` is the documented example), then
//! environment variables `PAGEWIRE_<SECTION>__<KEY>` (e.g. `PAGEWIRE_NATS__SERVERS=a,b`).
//! [`Settings::load`] rejects unknown keys and invalid values with a message naming the key.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::topic::Topic;

/// Environment variable prefix of every override.
pub const ENV_PREFIX: &str = "PAGEWIRE";

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is unreadable, a value has the wrong type, or a key is unknown.
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
    /// A value has the right type but is not acceptable.
    #[error("configuration key `{key}`: {reason}")]
    Invalid {
        /// Dotted key, e.g. `input.max_deliver`.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// The whole settings tree.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// How to reach the NATS servers.
    pub nats: NatsSettings,
    /// Where raw pages come from.
    pub input: InputSettings,
    /// Where articles, pages and dead letters go.
    pub output: OutputSettings,
    /// Bounds on one page and on the work in flight.
    pub limits: LimitSettings,
    /// Which articles also go to the alert topic.
    pub alerts: AlertSettings,
    /// Redelivery pacing for transient failures.
    pub retry: RetrySettings,
    /// Graceful shutdown.
    pub shutdown: ShutdownSettings,
    /// Logging.
    pub log: LogSettings,
    /// The probe and metrics server.
    pub http: HttpSettings,
    /// What `/metrics` reads from the broker.
    pub metrics: MetricsSettings,
    /// Cross-page references: stitching jumped articles, linking see-also pointers.
    pub stitch: StitchSettings,
    /// Benchmark baselines; never set in production.
    pub bench: BenchSettings,
}

impl Settings {
    /// Loads defaults, then `file` if given, then the process environment, and validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, None)
    }

    /// Like [`Settings::load`], with the environment given as a map (for tests) instead of read
    /// from the process; keys are full variable names such as `PAGEWIRE_INPUT__STREAM`.
    pub fn load_from(
        file: Option<&Path>,
        env: Option<HashMap<String, String>>,
    ) -> Result<Self, ConfigError> {
        // Defaults go in as the lowest layer (not only as serde defaults) so that a partial
        // table, e.g. just `output.search.stream`, keeps the defaults of its other keys.
        let defaults = config::Config::try_from(&Settings::default())?;
        let mut builder = config::Config::builder().add_source(defaults);
        if let Some(file) = file {
            builder = builder.add_source(
                config::File::from(file)
                    .format(config::FileFormat::Toml)
                    .required(true),
            );
        }
        let environment = config::Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("_")
            .separator("__")
            .list_separator(",")
            .with_list_parse_key("nats.servers")
            .with_list_parse_key("input.subjects")
            .try_parsing(true)
            .source(env);
        let settings: Settings = builder.add_source(environment).build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what serde cannot: ranges, names, and the promises the settings must keep. Each
    /// section checks its own keys (`NatsSettings::validate` and so on, in the order below);
    /// what is checked here is only what spans sections: a batch must fit the work in flight,
    /// every stream is used once, pagewire never consumes its own output, and the duplicate
    /// window outlasts every redelivery.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (i, o, st) = (&self.input, &self.output, &self.stitch);
        self.nats.validate()?;
        i.validate()?;
        if i.batch_size > self.limits.max_in_flight {
            return Err(invalid(
                "input.batch_size",
                format!(
                    "{} is more than limits.max_in_flight ({}): a batch could not be held",
                    i.batch_size, self.limits.max_in_flight
                ),
            ));
        }

        o.validate()?;
        let mut streams = BTreeSet::from([i.stream.clone()]);
        for (name, topic) in o.topics() {
            if !streams.insert(topic.stream.clone()) {
                return Err(invalid(
                    format!("output.{name}.stream"),
                    format!("stream {} is already used by another topic", topic.stream),
                ));
            }
            let wildcard = format!("{}.>", topic.subject_prefix);
            if i.subjects.iter().any(|s| filters_overlap(s, &wildcard)) {
                return Err(invalid(
                    format!("output.{name}.subject_prefix"),
                    "overlaps input.subjects: pagewire would consume its own output",
                ));
            }
        }

        st.validate()?;
        if st.enabled {
            if !streams.insert(st.timer_stream.clone()) {
                return Err(invalid(
                    "stitch.timer_stream",
                    format!("stream {} is already used by a topic", st.timer_stream),
                ));
            }
            let wildcard = format!("{}.>", st.timer_subject_prefix);
            let outputs = o.topics().map(|(_, t)| format!("{}.>", t.subject_prefix));
            if i.subjects
                .iter()
                .chain(&outputs)
                .any(|s| filters_overlap(s, &wildcard))
            {
                return Err(invalid(
                    "stitch.timer_subject_prefix",
                    "overlaps input.subjects or an output topic",
                ));
            }
        }

        // The duplicate window must outlast every redelivery of one input, or a late retry
        // could store an article a second time.
        let worst = (i.ack_wait.max(self.retry.hold) + self.retry.nak_max)
            .saturating_mul(i.max_deliver as u32);
        if o.duplicate_window <= worst {
            return Err(invalid(
                "output.duplicate_window",
                format!(
                    "{} is not longer than the worst-case redelivery span \
                     input.max_deliver x (max(input.ack_wait, retry.hold) + retry.nak_max) = {}",
                    format_duration(o.duplicate_window),
                    format_duration(worst)
                ),
            ));
        }

        self.limits.validate()?;
        self.alerts.validate()?;
        self.retry.validate()?;
        self.shutdown.validate()?;
        self.http.validate()?;
        self.metrics.validate()?;
        self.log.validate()
    }
}

// Each section's own checks: the keys of that section alone. `Settings::validate` runs them and
// adds the checks that span sections.

impl NatsSettings {
    /// Checks the `[nats]` keys: server URLs, one authentication method, TLS files in pairs,
    /// timeouts above zero, the inbox prefix.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.servers.is_empty() {
            return Err(invalid(
                "nats.servers",
                "at least one server URL is required",
            ));
        }
        for (i, s) in self.servers.iter().enumerate() {
            if s.trim().is_empty() || s.contains(char::is_whitespace) {
                return Err(invalid(
                    format!("nats.servers[{i}]"),
                    format!("{:?} is not a server URL", redact_url(s)),
                ));
            }
        }
        let methods = [
            self.user.is_some() || self.password.is_some(),
            self.token.is_some(),
            self.nkey_seed.is_some(),
            self.creds_file.is_some(),
        ];
        if methods.iter().filter(|m| **m).count() > 1 {
            return Err(invalid(
                "nats",
                "set at most one of user/password, token, nkey_seed, creds_file",
            ));
        }
        if self.user.is_some() != self.password.is_some() {
            return Err(invalid(
                "nats.password",
                "user and password must be set together",
            ));
        }
        if let Some(tls) = &self.tls {
            tls.validate()?;
        }
        positive("nats.connect_timeout", self.connect_timeout)?;
        positive("nats.request_timeout", self.request_timeout)?;
        positive("nats.reconnect_delay_max", self.reconnect_delay_max)?;
        subject_token_path("nats.inbox_prefix", &self.inbox_prefix)
    }
}

impl TlsSettings {
    /// Checks the `[nats.tls]` keys: a client certificate comes with its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.cert_file.is_some() != self.key_file.is_some() {
            return Err(invalid(
                "nats.tls.key_file",
                "cert_file and key_file must be set together",
            ));
        }
        Ok(())
    }
}

impl InputSettings {
    /// Checks the `[input]` keys: names, subject filters, timeouts and counts. That a batch
    /// fits `limits.max_in_flight` is checked by [`Settings::validate`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        stream_name("input.stream", &self.stream)?;
        stream_name("input.consumer", &self.consumer)?;
        if self.subjects.is_empty() {
            return Err(invalid(
                "input.subjects",
                "at least one subject is required",
            ));
        }
        for (k, s) in self.subjects.iter().enumerate() {
            subject_filter(&format!("input.subjects[{k}]"), s)?;
        }
        positive("input.ack_wait", self.ack_wait)?;
        positive("input.pull_expires", self.pull_expires)?;
        if self.pull_expires < Duration::from_millis(100) {
            return Err(invalid("input.pull_expires", "must be at least 100ms"));
        }
        if self.max_deliver < 1 {
            return Err(invalid("input.max_deliver", "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(invalid("input.batch_size", "must be at least 1"));
        }
        Ok(())
    }
}

impl OutputSettings {
    /// Checks the `[output]` keys: each topic's subject prefix and stream name, and the
    /// replicas. That streams and subjects do not collide, and the duplicate window, are
    /// checked by [`Settings::validate`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, topic) in self.topics() {
            subject_token_path(
                &format!("output.{name}.subject_prefix"),
                &topic.subject_prefix,
            )?;
            stream_name(&format!("output.{name}.stream"), &topic.stream)?;
        }
        if self.replicas == 0 || self.replicas > 5 {
            return Err(invalid("output.replicas", "must be 1..=5"));
        }
        Ok(())
    }
}

impl StitchSettings {
    /// Checks the `[stitch]` keys when stitching is on: names, the bucket, the timeout below
    /// the retention, the pages per issue. That the timer stream and subjects collide with no
    /// other is checked by [`Settings::validate`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        stream_name("stitch.timer_stream", &self.timer_stream)?;
        stream_name("stitch.timer_consumer", &self.timer_consumer)?;
        subject_token_path("stitch.timer_subject_prefix", &self.timer_subject_prefix)?;
        if self.bucket.is_empty()
            || !self
                .bucket
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid(
                "stitch.bucket",
                format!(
                    "{:?} is not a bucket name (letters, digits, _ and -)",
                    self.bucket
                ),
            ));
        }
        if self.timeout.is_zero() || self.retention <= self.timeout {
            return Err(invalid(
                "stitch.timeout",
                "must be above zero and below stitch.retention",
            ));
        }
        if self.max_pages_per_issue == 0 || self.max_pages_per_issue > 5000 {
            return Err(invalid("stitch.max_pages_per_issue", "must be 1..=5000"));
        }
        Ok(())
    }
}

impl LimitSettings {
    /// Checks the `[limits]` keys: every bound is at least 1, and an input byte budget holds
    /// one page of `max_page_bytes`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_page_bytes == 0 {
            return Err(invalid("limits.max_page_bytes", "must be at least 1"));
        }
        if self.max_articles == 0 {
            return Err(invalid("limits.max_articles", "must be at least 1"));
        }
        if self.max_in_flight == 0 {
            return Err(invalid("limits.max_in_flight", "must be at least 1"));
        }
        if self.max_in_flight_bytes != 0 && self.max_in_flight_bytes < self.max_page_bytes {
            return Err(invalid(
                "limits.max_in_flight_bytes",
                format!(
                    "{} is less than limits.max_page_bytes ({}): the largest page could never \
                     be delivered (0 derives it from the other limits)",
                    self.max_in_flight_bytes, self.max_page_bytes
                ),
            ));
        }
        Ok(())
    }
}

impl AlertSettings {
    /// Checks the `[[alerts.rules]]`: unique names of the allowed characters, at least one
    /// criterion each, no empty keyword or credit.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut names = BTreeSet::new();
        for (k, rule) in self.rules.iter().enumerate() {
            let key = format!("alerts.rules[{k}]");
            if rule.name.is_empty()
                || rule.name.len() > 64
                || !rule
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(invalid(
                    format!("{key}.name"),
                    format!("{:?} must be 1-64 of A-Z a-z 0-9 - _", rule.name),
                ));
            }
            if !names.insert(rule.name.as_str()) {
                return Err(invalid(
                    format!("{key}.name"),
                    format!("rule {:?} is defined twice", rule.name),
                ));
            }
            if rule.is_empty() {
                return Err(invalid(
                    key,
                    "a rule needs at least one of keywords, credits, kinds, pages, lead_of_page_one",
                ));
            }
            if rule
                .keywords
                .iter()
                .chain(&rule.credits)
                .any(|s| s.trim().is_empty())
            {
                return Err(invalid(
                    key,
                    "keywords and credits must not be empty strings",
                ));
            }
        }
        Ok(())
    }
}

impl RetrySettings {
    /// Checks the `[retry]` keys: a first nak delay above zero, and a largest one not below it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("retry.nak_initial", self.nak_initial)?;
        if self.nak_max < self.nak_initial {
            return Err(invalid(
                "retry.nak_max",
                "must not be less than retry.nak_initial",
            ));
        }
        Ok(())
    }
}

impl ShutdownSettings {
    /// Checks the `[shutdown]` keys: a drain timeout above zero.
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("shutdown.drain_timeout", self.drain_timeout)
    }
}

impl HttpSettings {
    /// Checks the `[http]` keys: a header timeout above zero, room for the probes at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("http.header_read_timeout", self.header_read_timeout)?;
        if self.max_connections < 4 {
            return Err(invalid(
                "http.max_connections",
                "must be at least 4 (liveness, readiness and metrics probes at once)",
            ));
        }
        Ok(())
    }
}

impl MetricsSettings {
    /// Checks the `[metrics]` keys: the broker is not polled more than ten times a second.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.consumer_poll_interval < Duration::from_millis(100) {
            return Err(invalid(
                "metrics.consumer_poll_interval",
                "must be at least 100ms",
            ));
        }
        Ok(())
    }
}

impl LogSettings {
    /// Checks the `[log]` keys: the filter is a tracing filter directive.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if tracing_subscriber::EnvFilter::try_new(&self.filter).is_err() {
            return Err(invalid(
                "log.filter",
                format!("{:?} is not a tracing filter directive", self.filter),
            ));
        }
        Ok(())
    }
}

fn positive(key: &str, d: Duration) -> Result<(), ConfigError> {
    if d.is_zero() {
        return Err(invalid(key, "must be longer than zero"));
    }
    Ok(())
}

/// JetStream stream and consumer names: no `.`, `*`, `>`, whitespace or path separators.
fn stream_name(key: &str, s: &str) -> Result<(), ConfigError> {
    if s.is_empty()
        || s.len() > 255
        || s.chars().any(|c| {
            matches!(c, '.' | '*' | '>' | '/' | '\\') || c.is_whitespace() || c.is_control()
        })
    {
        return Err(invalid(
            key,
            format!("{s:?} is not a valid stream or consumer name"),
        ));
    }
    Ok(())
}

/// A subject prefix: dot-separated literal tokens, no wildcards.
fn subject_token_path(key: &str, s: &str) -> Result<(), ConfigError> {
    let bad = s.is_empty()
        || s.split('.').any(|t| {
            t.is_empty()
                || t.contains(['*', '>'])
                || t.chars().any(|c| c.is_whitespace() || c.is_control())
        });
    if bad {
        return Err(invalid(
            key,
            format!("{s:?} is not a literal subject prefix"),
        ));
    }
    Ok(())
}

/// A subject filter: tokens may be `*`, and `>` only last.
fn subject_filter(key: &str, s: &str) -> Result<(), ConfigError> {
    let tokens: Vec<&str> = s.split('.').collect();
    let bad = s.is_empty()
        || tokens.iter().enumerate().any(|(k, t)| {
            t.is_empty()
                || t.chars().any(|c| c.is_whitespace() || c.is_control())
                || (t.contains(['*', '>']) && *t != "*" && *t != ">")
                || (*t == ">" && k + 1 != tokens.len())
        });
    if bad {
        return Err(invalid(key, format!("{s:?} is not a subject filter")));
    }
    Ok(())
}

/// Whether two subject filters can match a common subject.
fn filters_overlap(a: &str, b: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for k in 0..a.len().max(b.len()) {
        match (a.get(k), b.get(k)) {
            (Some(&">"), _) | (_, Some(&">")) => return true,
            (Some(x), Some(y)) if *x == "*" || *y == "*" || x == y => continue,
            _ => return false,
        }
    }
    true
}

/// A secret value: deserializes from a plain string, never shows itself in `Debug` or logs.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The value, for the one place that hands it to the client library.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Serializes as `[redacted]`: a settings dump never carries the value.
impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// A server URL with any password (or token) in its userinfo replaced by `***`, for logs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    let shown = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => "***".to_owned(),
    };
    format!("{}{shown}{}", &url[..scheme_end], &rest[at..])
}

/// The NATS connection.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatsSettings {
    /// Server URLs; the client picks one and fails over to the others. Userinfo in a URL is
    /// redacted whenever it is logged.
    pub servers: Vec<String>,
    /// Connection name shown by the server (`nats server report connections`).
    pub connection_name: String,
    /// User for user/password authentication (with `password`).
    pub user: Option<String>,
    /// Password for user/password authentication.
    pub password: Option<Secret>,
    /// Token authentication.
    pub token: Option<Secret>,
    /// NKey seed (`SU...`) for nkey authentication.
    pub nkey_seed: Option<Secret>,
    /// Path of a `.creds` file (JWT + nkey seed) for decentralized authentication.
    pub creds_file: Option<PathBuf>,
    /// TLS; absent means plain TCP unless the server requires TLS.
    pub tls: Option<TlsSettings>,
    /// How long one connection attempt may take.
    #[serde(with = "duration")]
    pub connect_timeout: Duration,
    /// How long a JetStream API request or a PubAck may take before it counts as a transient
    /// failure.
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// Upper bound of the exponential backoff between reconnect attempts.
    #[serde(with = "duration")]
    pub reconnect_delay_max: Duration,
    /// Prefix of the reply subjects (API replies, PubAcks, pulled messages). A server that
    /// gives each user its own prefix (`_INBOX_pagewire.>`) instead of the shared `_INBOX.>`
    /// stops other users from reading these replies; see deploy/nats/accounts.conf.
    pub inbox_prefix: String,
}

impl Default for NatsSettings {
    fn default() -> Self {
        Self {
            servers: vec!["nats://127.0.0.1:4222".to_owned()],
            connection_name: "pagewire".to_owned(),
            user: None,
            password: None,
            token: None,
            nkey_seed: None,
            creds_file: None,
            tls: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            reconnect_delay_max: Duration::from_secs(8),
            inbox_prefix: "_INBOX".to_owned(),
        }
    }
}

impl NatsSettings {
    /// The server list as it may be logged.
    pub fn redacted_servers(&self) -> Vec<String> {
        self.servers.iter().map(|s| redact_url(s)).collect()
    }
}

/// TLS to the NATS servers.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// Refuse to talk to a server that does not offer TLS.
    pub required: bool,
    /// PEM file of CA certificates to trust in addition to the system roots.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate for mutual TLS (with `key_file`).
    pub cert_file: Option<PathBuf>,
    /// PEM private key of the client certificate.
    pub key_file: Option<PathBuf>,
}

/// The input stream and the durable consumer all replicas share.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct InputSettings {
    /// JetStream stream holding raw pages.
    pub stream: String,
    /// Subjects the input stream captures (and the consumer reads).
    pub subjects: Vec<String>,
    /// Durable pull consumer name; every replica binds to the same one and they share work.
    pub consumer: String,
    /// How long JetStream waits for an ack before redelivering a page.
    #[serde(with = "duration")]
    pub ack_wait: Duration,
    /// pagewire's delivery budget for one page: a transient failure on this delivery
    /// dead-letters the page (`retries_exhausted`) instead of nak-ing it, and a later delivery
    /// is dead-lettered without being processed again. The durable consumer itself has no
    /// delivery limit (`max_deliver = -1`), so a page whose dead letter cannot be stored is
    /// nak-ed and comes back until it is: the broker never drops a page.
    pub max_deliver: i64,
    /// Most pages asked for in one pull request.
    pub batch_size: usize,
    /// Most bytes asked for in one pull request (0: no byte bound).
    pub batch_max_bytes: usize,
    /// How long one pull request waits for pages. Shutdown waits for the open request to end,
    /// so this bounds how long stopping takes when idle.
    #[serde(with = "duration")]
    pub pull_expires: Duration,
}

impl Default for InputSettings {
    fn default() -> Self {
        Self {
            stream: "PAGES".to_owned(),
            subjects: vec!["pages.raw.>".to_owned()],
            consumer: "pagewire".to_owned(),
            ack_wait: Duration::from_secs(60),
            max_deliver: 5,
            batch_size: 16,
            batch_max_bytes: 0,
            pull_expires: Duration::from_secs(2),
        }
    }
}

/// Where outputs go, and the streams that store them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputSettings {
    /// Create or update the input stream, the consumer and the output streams at start. Set to
    /// false where an operator manages them; pagewire then only binds to what exists.
    pub provision: bool,
    /// Deduplication window of the output streams; must be longer than the worst-case
    /// redelivery span so that a retried page stores nothing twice. Also the horizon within
    /// which re-sending an unchanged page stores nothing new.
    #[serde(with = "duration")]
    pub duplicate_window: Duration,
    /// Storage of provisioned streams.
    pub storage: Storage,
    /// Replicas of provisioned streams (1 for a single server, 3 for a cluster).
    pub replicas: usize,
    /// Publish a page's outputs to each stream as one atomic batch (ADR-50, nats-server 2.12+):
    /// one PubAck per stream and page instead of one per message. Needs `allow_atomic` on the
    /// output streams (set when pagewire provisions them). Off by default: measured, it costs
    /// nats-server many times the CPU per page it saves (BENCHMARKS.md, "Atomic batch
    /// publishing (issue 14)").
    pub atomic_batches: bool,
    /// Stories, briefs and photo stories (not teasers), for search indexers.
    pub search: TopicSettings,
    /// Every article of every kind.
    pub archive: TopicSettings,
    /// Articles matching an alert rule.
    pub alert: TopicSettings,
    /// The page-level message (article ids, raw text, hash).
    pub pages: TopicSettings,
    /// Dead letters: input pagewire could not process.
    pub dlq: TopicSettings,
    /// Jumps whose partner, and see-also pointers whose target, did not arrive within
    /// `stitch.timeout` (`UnresolvedJump` and `UnresolvedReference` events).
    pub unresolved: TopicSettings,
}

impl Default for OutputSettings {
    fn default() -> Self {
        let topic = |t: Topic| TopicSettings {
            subject_prefix: t.default_subject_prefix().to_owned(),
            stream: t.default_stream().to_owned(),
        };
        Self {
            provision: true,
            duplicate_window: Duration::from_secs(24 * 3600),
            storage: Storage::File,
            replicas: 1,
            atomic_batches: false,
            search: topic(Topic::Search),
            archive: topic(Topic::Archive),
            alert: topic(Topic::Alert),
            pages: topic(Topic::Pages),
            dlq: topic(Topic::Dlq),
            unresolved: topic(Topic::Unresolved),
        }
    }
}

impl OutputSettings {
    /// The settings of one topic (the section `[output.<label>]`).
    pub fn topic(&self, topic: Topic) -> &TopicSettings {
        match topic {
            Topic::Search => &self.search,
            Topic::Archive => &self.archive,
            Topic::Alert => &self.alert,
            Topic::Pages => &self.pages,
            Topic::Dlq => &self.dlq,
            Topic::Unresolved => &self.unresolved,
        }
    }

    /// Every output topic with its config section name ([`Topic::label`]).
    pub fn topics(&self) -> [(&'static str, &TopicSettings); 6] {
        Topic::ALL.map(|t| (t.label(), self.topic(t)))
    }
}

/// One output topic: messages go to `<subject_prefix>.<publication>`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopicSettings {
    /// Subject prefix; the publication slug is appended as the last token.
    pub subject_prefix: String,
    /// Stream capturing `<subject_prefix>.>`.
    pub stream: String,
}

/// JetStream storage backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// On disk; survives a broker restart.
    File,
    /// In memory; lost when the broker stops.
    Memory,
}

/// Bounds on one page and on the work in flight.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// Largest page text accepted, in bytes; larger input is dead-lettered as `too_large`.
    pub max_page_bytes: usize,
    /// Most articles one page may yield; more is dead-lettered as `too_many_articles`.
    pub max_articles: usize,
    /// Most pages being processed at once by one replica (decoded, parsed, publishing).
    pub max_in_flight: usize,
    /// Most bytes of input messages (subject, reply subject, headers and body, as the broker
    /// counts them) one replica holds at once: every pull request asks the broker for no more
    /// than the part of this budget that is free, and a page gives its share back when it is
    /// acked, termed or nak-ed. 0 (the default) derives it: a quarter of `max_in_flight ×
    /// max_page_bytes`, and at least one message of the server's `max_payload` (see
    /// [`LimitSettings::input_budget`]). Set, it must hold one such message.
    pub max_in_flight_bytes: usize,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            max_page_bytes: 4 * 1024 * 1024,
            max_articles: 500,
            max_in_flight: 64,
            max_in_flight_bytes: 0,
        }
    }
}

/// What a pull request adds to the largest message the server takes (`max_payload`, headers
/// and body): its subject and reply subject, which the broker counts against a request's
/// `max_bytes`.
pub const PULL_MESSAGE_OVERHEAD: usize = 4096;

impl LimitSettings {
    /// The input byte budget against a server of `max_payload`: `max_in_flight_bytes`, or when
    /// it is 0 a quarter of `max_in_flight × max_page_bytes`, raised to one message of
    /// `max_payload` (plus [`PULL_MESSAGE_OVERHEAD`]) so that every page the broker holds can
    /// be delivered. An explicit budget below that is an error: the largest page would never
    /// be delivered. Returns `(budget, smallest pull request)` in bytes.
    pub fn input_budget(&self, max_payload: usize) -> Result<(usize, usize), String> {
        let one = max_payload.saturating_add(PULL_MESSAGE_OVERHEAD);
        if self.max_in_flight_bytes == 0 {
            let derived = self.max_in_flight.saturating_mul(self.max_page_bytes) / 4;
            return Ok((derived.max(one), one));
        }
        if self.max_in_flight_bytes < one {
            return Err(format!(
                "{} is less than one message of the server's max_payload ({max_payload}) plus \
                 {PULL_MESSAGE_OVERHEAD} bytes of subjects: the largest page it holds could \
                 never be delivered; raise it to at least {one} or set 0 to derive it",
                self.max_in_flight_bytes
            ));
        }
        Ok((self.max_in_flight_bytes, one))
    }

    /// The parser's view of these limits.
    pub fn parser_limits(&self) -> crate::parse::Limits {
        crate::parse::Limits {
            max_bytes: self.max_page_bytes,
            max_articles: self.max_articles,
        }
    }
}

/// Alert rules.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// Named rules; an article goes to the alert topic when any rule matches it, with every
    /// matching rule's name in the `Pagewire-Alert` header.
    pub rules: Vec<AlertRule>,
}

/// One alert rule. Every criterion that is set must match (AND); a list criterion matches when
/// any of its entries does (OR).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertRule {
    /// Name carried in the `Pagewire-Alert` header.
    pub name: String,
    /// Case-insensitive substrings of the headline, subheadlines or paragraphs.
    pub keywords: Vec<String>,
    /// Credited names (agency, reporter, photographer), compared case-insensitively.
    pub credits: Vec<String>,
    /// Article kinds.
    pub kinds: Vec<Kind>,
    /// Page numbers.
    pub pages: Vec<u32>,
    /// Only the lead story of page 1: the first story on it.
    pub lead_of_page_one: bool,
}

impl AlertRule {
    /// Whether the rule has no criterion at all (it would match everything).
    pub fn is_empty(&self) -> bool {
        self.keywords.is_empty()
            && self.credits.is_empty()
            && self.kinds.is_empty()
            && self.pages.is_empty()
            && !self.lead_of_page_one
    }
}

/// Article kinds as written in alert rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `ARTICLE_KIND_STORY`.
    Story,
    /// `ARTICLE_KIND_BRIEF`.
    Brief,
    /// `ARTICLE_KIND_PHOTO`.
    Photo,
    /// `ARTICLE_KIND_TEASER`.
    Teaser,
    /// `ARTICLE_KIND_FRAGMENT`.
    Fragment,
}

impl Kind {
    /// The proto enum value.
    pub fn to_proto(self) -> crate::proto::ArticleKind {
        use crate::proto::ArticleKind;
        match self {
            Kind::Story => ArticleKind::Story,
            Kind::Brief => ArticleKind::Brief,
            Kind::Photo => ArticleKind::Photo,
            Kind::Teaser => ArticleKind::Teaser,
            Kind::Fragment => ArticleKind::Fragment,
        }
    }
}

/// Redelivery pacing after a transient failure.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrySettings {
    /// Nak delay after the first failed delivery; doubles with each further delivery.
    #[serde(with = "duration")]
    pub nak_initial: Duration,
    /// Largest nak delay.
    #[serde(with = "duration")]
    pub nak_max: Duration,
    /// How long one delivery retries broker trouble in place (publishes, stitch state) before
    /// the page is nak-ed: the page is kept (in-progress acks go on), retried after
    /// `nak_initial` doubling up to a second. A leader election after a node is lost takes a
    /// few seconds, and then costs no delivery of the budget. `0s`: nak at the first failure.
    /// Shutdown ends a hold at once (the page is nak-ed for another replica).
    #[serde(with = "duration")]
    pub hold: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            nak_initial: Duration::from_secs(1),
            nak_max: Duration::from_secs(60),
            hold: Duration::from_secs(20),
        }
    }
}

impl RetrySettings {
    /// Nak delay for a page that has been delivered `delivered` times (1-based).
    pub fn nak_delay(&self, delivered: i64) -> Duration {
        let doublings = delivered.saturating_sub(1).clamp(0, 30) as u32;
        self.nak_initial
            .saturating_mul(1u32 << doublings)
            .min(self.nak_max)
    }
}

/// Graceful shutdown.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownSettings {
    /// After SIGTERM/SIGINT: how long to finish and ack in-flight pages before giving up (what
    /// is not acked by then is redelivered to another replica).
    #[serde(with = "duration")]
    pub drain_timeout: Duration,
}

impl Default for ShutdownSettings {
    fn default() -> Self {
        Self {
            drain_timeout: Duration::from_secs(30),
        }
    }
}

/// Cross-page references (README, "Cross-page references"): the state lives in a JetStream
/// key-value bucket and the timeouts in a stream, so any replica can finish what another began.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StitchSettings {
    /// Stitch jumped articles and link see-also pointers. Off: every article is published as
    /// parsed, once, with revision 0.
    pub enabled: bool,
    /// Key-value bucket holding each issue's index and each page's parsed record.
    pub bucket: String,
    /// How long issue state is kept (the bucket's max age): pages of one issue arriving further
    /// apart are not stitched to each other.
    #[serde(with = "duration")]
    pub retention: Duration,
    /// A half whose partner has not arrived after this long is reported unresolved: re-published
    /// with the warning `unresolved_jump`, and an `UnresolvedJump` event is sent. A see-also
    /// pointer no article has matched by then likewise (`unresolved_reference`,
    /// `UnresolvedReference`). A partner or target arriving later still stitches or links.
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Stream carrying one timer message per waiting half, and the subject prefix it captures.
    pub timer_stream: String,
    /// Subject prefix of timer messages (`<prefix>.<publication>`).
    pub timer_subject_prefix: String,
    /// Durable consumer of the timer stream, shared by all replicas.
    pub timer_consumer: String,
    /// Most pages of one issue (publication, date, edition) stitching follows; more pages are
    /// published as parsed and counted in `pagewire_stitch_skipped_total{reason="issue_full"}`.
    pub max_pages_per_issue: usize,
}

impl Default for StitchSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            bucket: "pagewire_stitch".to_owned(),
            retention: Duration::from_secs(7 * 24 * 3600),
            timeout: Duration::from_secs(600),
            timer_stream: "PAGEWIRE_TIMERS".to_owned(),
            timer_subject_prefix: "pagewire.timers".to_owned(),
            timer_consumer: "pagewire-timers".to_owned(),
            max_pages_per_issue: 1000,
        }
    }
}

/// Benchmark baselines (BENCHMARKS.md, `cargo bench --bench e2e`); never set in production.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BenchSettings {
    /// Replace the parser with a byte chunker that publishes the message sizes named in each
    /// page's `Pagewire-Bench-Plan` header: the consume / publish / ack machinery alone, the
    /// physical limit of the design (benchmark B1).
    pub pass_through: bool,
}

/// Logging.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// Output format.
    pub format: LogFormat,
    /// `RUST_LOG`-style filter, e.g. `info,pagewire=debug`; `RUST_LOG` wins when set.
    pub filter: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Pretty,
            filter: "info".to_owned(),
        }
    }
}

/// The HTTP server of probes and metrics: `GET /healthz`, `GET /readyz`, `GET /metrics`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Address to listen on. `pagewire run` refuses to start when it is taken, so a probe never
    /// silently talks to something else; port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// How long a client may take to send a request's headers; then the connection is closed.
    /// Probes and scrapers send theirs at once, so a slow sender is holding a connection open.
    #[serde(with = "duration")]
    pub header_read_timeout: Duration,
    /// Connections open at once. At the limit, a new connection closes the oldest one that is
    /// not being answered (a half-sent request or an idle keep-alive), so a flood can neither
    /// take the process's file descriptors (which NATS reconnects need too) nor keep a probe
    /// out.
    pub max_connections: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 9090)),
            header_read_timeout: Duration::from_secs(5),
            max_connections: 64,
        }
    }
}

/// What the metrics read from the broker rather than count themselves.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// How often consumer lag (pending, ack pending, redelivered) is read from JetStream's
    /// consumer info. Each read is one API request per replica.
    #[serde(with = "duration")]
    pub consumer_poll_interval: Duration,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            consumer_poll_interval: Duration::from_secs(5),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Pretty,
    /// One JSON object per line, for a log pipeline.
    Json,
}

/// Durations written as `500ms`, `30s`, `5m`, `24h`, `7d`, or a bare number of seconds.
pub mod duration {
    use std::time::Duration;

    use serde::{de, Deserialize, Deserializer, Serializer};

    /// Serde adapter: writes the duration as the config reads it.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_duration(*d))
    }

    /// Parses `500ms`, `30s`, `5m`, `24h`, `7d`, `1h30m` or `45` (seconds).
    pub fn parse(s: &str) -> Result<Duration, String> {
        let s = s.trim();
        if let Ok(secs) = s.parse::<u64>() {
            return Ok(Duration::from_secs(secs));
        }
        let mut total = Duration::ZERO;
        let mut rest = s;
        if rest.is_empty() {
            return Err("empty duration".to_owned());
        }
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let n: u64 = rest[..digits]
                .parse()
                .map_err(|_| format!("{s:?} is not a duration like 30s, 5m, 500ms"))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = match &rest[..unit_len] {
                "ms" => Duration::from_millis(1),
                "s" => Duration::from_secs(1),
                "m" => Duration::from_secs(60),
                "h" => Duration::from_secs(3600),
                "d" => Duration::from_secs(86_400),
                u => return Err(format!("unknown unit {u:?} in {s:?} (use ms, s, m, h, d)")),
            };
            rest = &rest[unit_len..];
            total = total.saturating_add(unit.saturating_mul(n.min(u32::MAX as u64) as u32));
        }
        Ok(total)
    }

    /// Serde adapter: a duration from a string or an integer number of seconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Secs(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Secs(s) => Ok(Duration::from_secs(s)),
            Raw::Text(t) => parse(&t).map_err(de::Error::custom),
        }
    }
}

/// Formats a duration the way the config reads it (`90s`, `250ms`).
pub fn format_duration(d: Duration) -> String {
    if d.subsec_millis() != 0 || d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn defaults_alone_are_valid() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.input.stream, "PAGES");
        assert_eq!(s.input.subjects, ["pages.raw.>"]);
        assert_eq!(s.output.search.subject_prefix, "articles.search");
        assert_eq!(s.limits.max_page_bytes, 4 * 1024 * 1024);
        assert!(s.output.provision);
    }

    #[test]
    fn environment_overrides_nested_keys_and_lists() {
        let s = Settings::load_from(
            None,
            env(&[
                ("PAGEWIRE_NATS__SERVERS", "nats://a:4222,nats://b:4222"),
                ("PAGEWIRE_INPUT__ACK_WAIT", "90s"),
                ("PAGEWIRE_INPUT__MAX_DELIVER", "7"),
                ("PAGEWIRE_OUTPUT__SEARCH__STREAM", "SEARCH_X"),
                ("PAGEWIRE_NATS__PASSWORD", "hunter2"),
                ("PAGEWIRE_NATS__USER", "svc"),
            ]),
        )
        .unwrap();
        assert_eq!(s.nats.servers, ["nats://a:4222", "nats://b:4222"]);
        assert_eq!(s.input.ack_wait, Duration::from_secs(90));
        assert_eq!(s.input.max_deliver, 7);
        assert_eq!(s.output.search.stream, "SEARCH_X");
        assert_eq!(
            s.nats.password.as_ref().map(Secret::expose),
            Some("hunter2")
        );
    }

    #[test]
    fn the_probe_address_defaults_to_port_9090_and_reads_from_the_environment() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.http.listen, SocketAddr::from(([0, 0, 0, 0], 9090)));
        assert_eq!(s.metrics.consumer_poll_interval, Duration::from_secs(5));

        let s = Settings::load_from(
            None,
            env(&[
                ("PAGEWIRE_HTTP__LISTEN", "127.0.0.1:0"),
                ("PAGEWIRE_METRICS__CONSUMER_POLL_INTERVAL", "250ms"),
            ]),
        )
        .unwrap();
        assert_eq!(s.http.listen, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(s.metrics.consumer_poll_interval, Duration::from_millis(250));

        let e = Settings::load_from(None, env(&[("PAGEWIRE_HTTP__LISTEN", "localhost")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("listen"), "{e}");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s =
            Settings::load_from(None, env(&[("PAGEWIRE_NATS__TOKEN", "s3cr3t-token")])).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("s3cr3t-token"), "{shown}");
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn urls_with_userinfo_are_redacted() {
        assert_eq!(redact_url("nats://u:p@h:4222"), "nats://u:***@h:4222");
        assert_eq!(redact_url("tls://tok@h:4222/x"), "tls://***@h:4222/x");
        assert_eq!(redact_url("nats://h:4222"), "nats://h:4222");
        assert_eq!(redact_url("h:4222"), "h:4222");
    }

    #[test]
    fn redaction_keeps_the_url_as_written() {
        // Why `redact_url` is not built on the `url` crate: a server with whitespace (refused
        // by validation, whose message shows it) does not parse as a URL and must still be
        // redacted, and a `ws://` URL is shown as written, not normalized.
        assert_eq!(redact_url("nats://u:p@h :4222"), "nats://u:***@h :4222");
        assert_eq!(redact_url("ws://u:p@H:80"), "ws://u:***@H:80");
        assert_eq!(redact_url("nats://u:p@ss@h:4222"), "nats://u:***@h:4222");
        let e = Settings::load_from(
            None,
            env(&[(
                "PAGEWIRE_NATS__SERVERS",
                "nats://a:4222,nats://u:pw@b c:4222",
            )]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("nats.servers[1]") && e.contains("u:***@b c"),
            "{e}"
        );
        assert!(!e.contains("pw"), "{e}");
    }

    #[test]
    fn the_input_byte_budget_is_derived_or_must_hold_the_largest_message() {
        let mut l = LimitSettings::default();
        let one = (1 << 20) + PULL_MESSAGE_OVERHEAD;
        // Derived: a quarter of 64 pages of 4 MiB, at least one message of max_payload.
        assert_eq!(l.input_budget(1 << 20), Ok((64 << 20, one)));
        l.max_in_flight = 1;
        assert_eq!(l.input_budget(1 << 20), Ok((one, one)));
        assert_eq!(
            l.input_budget(8 << 20),
            Ok((
                (8 << 20) + PULL_MESSAGE_OVERHEAD,
                (8 << 20) + PULL_MESSAGE_OVERHEAD
            ))
        );
        // Set: taken as it is when it holds one message, refused when it does not.
        l.max_in_flight_bytes = 6 << 20;
        assert_eq!(l.input_budget(1 << 20), Ok((6 << 20, one)));
        let e = l.input_budget(8 << 20).unwrap_err();
        assert!(e.contains("max_payload"), "{e}");
        // Below one page of max_page_bytes it is refused before any server is asked.
        l.max_in_flight_bytes = 1 << 20;
        let e = l.validate().unwrap_err().to_string();
        assert!(e.contains("limits.max_in_flight_bytes"), "{e}");
        l.max_in_flight_bytes = 0;
        assert!(l.validate().is_ok());
    }

    #[test]
    fn each_section_checks_its_own_keys_with_the_same_message() {
        let mut s = Settings::default();
        s.limits.max_articles = 0;
        s.retry.nak_max = Duration::ZERO;
        let section = s.limits.validate().unwrap_err().to_string();
        assert_eq!(section, s.validate().unwrap_err().to_string());
        assert!(section.contains("limits.max_articles"), "{section}");
        assert!(s
            .retry
            .validate()
            .unwrap_err()
            .to_string()
            .contains("retry.nak_max"));

        let mut s = Settings::default();
        s.stitch.bucket = "no.dots".to_owned();
        assert!(s.stitch.validate().is_err());
        s.stitch.enabled = false;
        assert!(s.stitch.validate().is_ok() && s.validate().is_ok());
    }

    #[test]
    fn invalid_values_fail_naming_the_key() {
        let cases = [
            ("PAGEWIRE_INPUT__MAX_DELIVER", "0", "input.max_deliver"),
            ("PAGEWIRE_INPUT__ACK_WAIT", "soon", "ack_wait"),
            (
                "PAGEWIRE_OUTPUT__DUPLICATE_WINDOW",
                "1m",
                "output.duplicate_window",
            ),
            (
                "PAGEWIRE_OUTPUT__SEARCH__SUBJECT_PREFIX",
                "a.*",
                "output.search.subject_prefix",
            ),
            (
                "PAGEWIRE_OUTPUT__ARCHIVE__STREAM",
                "PAGES",
                "output.archive.stream",
            ),
            (
                "PAGEWIRE_INPUT__SUBJECTS",
                "articles.>",
                "output.search.subject_prefix",
            ),
            ("PAGEWIRE_LOG__FORMAT", "xml", "log.format"),
            (
                "PAGEWIRE_NATS__INBOX_PREFIX",
                "_INBOX.>",
                "nats.inbox_prefix",
            ),
            ("PAGEWIRE_NATS__NO_SUCH_KEY", "1", "no_such_key"),
            ("PAGEWIRE_LIMITS__MAX_IN_FLIGHT", "4", "input.batch_size"),
        ];
        for (var, value, key) in cases {
            let err = Settings::load_from(None, env(&[(var, value)])).unwrap_err();
            assert!(err.to_string().contains(key), "{var}={value}: {err}");
        }
    }

    #[test]
    fn durations_read_like_the_config_writes_them() {
        assert_eq!(duration::parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration::parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration::parse("45"), Ok(Duration::from_secs(45)));
        assert!(duration::parse("5 minutes").is_err());
        assert!(duration::parse("").is_err());
    }

    #[test]
    fn nak_delay_doubles_per_delivery_up_to_the_maximum() {
        let r = RetrySettings {
            nak_initial: Duration::from_secs(1),
            nak_max: Duration::from_secs(10),
            hold: Duration::ZERO,
        };
        let delays: Vec<u64> = (1..=6).map(|d| r.nak_delay(d).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        assert_eq!(r.nak_delay(i64::MAX), Duration::from_secs(10));
    }

    #[test]
    fn overlapping_filters_are_detected() {
        assert!(filters_overlap("pages.raw.>", "pages.>"));
        assert!(filters_overlap("pages.*.x", "pages.raw.>"));
        assert!(!filters_overlap("pages.raw.>", "pages.archive.>"));
        assert!(!filters_overlap("a.b", "a.b.c"));
    }
}
