//! `pagewire run`: the service, stopped by SIGTERM or SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use pagewire::config::{LogFormat, LogSettings, Settings};
use pagewire::service::{self, ServiceState};

/// Arguments of `pagewire run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Settings file (TOML); environment variables PAGEWIRE_SECTION__KEY override it.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
}

/// Runs the service until a signal, then drains and exits 0.
///
/// The signal handlers are installed first, before the settings are read and before anything
/// that can wait (binding, connecting, provisioning): a SIGTERM at any moment after that is a
/// clean stop with exit 0, also while the broker is still unreachable. The probe server is
/// bound before the service starts, so a taken `http.listen` fails the start at once, and
/// `/healthz` answers while the service is still connecting.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let signals = {
        let _in_runtime = runtime.enter();
        Signals::install()?
    };
    let settings = Settings::load(args.config.as_deref())?;
    init_tracing(&settings.log);
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        tokio::spawn(signals.cancel_on_first(shutdown.clone()));
        let state = Arc::new(ServiceState::default());
        let listen = settings.http.listen;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| {
                format!("configuration key `http.listen`: cannot listen on {listen}")
            })?;
        let addr = listener.local_addr().context("http listener address")?;
        tracing::info!(%addr, "serving /healthz, /readyz and /metrics");
        let http_stop = CancellationToken::new();
        let http_settings = settings.http.clone();
        let http = tokio::spawn({
            let state = state.clone();
            let http_stop = http_stop.clone();
            async move { service::http::serve(listener, state, &http_settings, http_stop).await }
        });
        let result = service::run_with_state(settings, state, shutdown).await;
        http_stop.cancel();
        match tokio::time::timeout(Duration::from_secs(5), http).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "http server ended with an error"),
            Ok(Err(e)) => tracing::warn!(error = %e, "http server task failed"),
            Err(_) => tracing::warn!("http server did not stop within 5s"),
        }
        result.map_err(anyhow::Error::from)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM and SIGINT, registered with the OS when created: a signal that arrives before
/// anyone waits on them is kept, not lost and not the default action (termination).
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Registers the handlers; needs a runtime context.
    fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
            int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
        })
    }

    /// Cancels `shutdown` on the first SIGTERM or SIGINT.
    async fn cancel_on_first(mut self, shutdown: CancellationToken) {
        let name = tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutdown requested");
        shutdown.cancel();
    }
}

/// Installs the global subscriber: `RUST_LOG` if set, else the configured filter.
pub fn init_tracing(log: &LogSettings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&log.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match log.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
