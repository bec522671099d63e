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
/// The probe server is bound before anything else, so a taken `http.listen` fails the start at
/// once, and `/healthz` answers while the service is still connecting.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(args.config.as_deref())?;
    init_tracing(&settings.log);
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        tokio::spawn(cancel_on_signal(shutdown.clone()));
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

/// Cancels `shutdown` on the first SIGTERM or SIGINT.
async fn cancel_on_signal(shutdown: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop with SIGKILL");
        return;
    };
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(signal = name, "shutdown requested");
    shutdown.cancel();
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
