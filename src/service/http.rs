//! The probe and metrics server: `GET /healthz`, `GET /readyz`, `GET /metrics`.
//!
//! It only reads the shared [`ServiceState`]; it never touches NATS, so a probe answers at once
//! whatever the broker does. [`serve`] takes its listener and its stop signal as arguments
//! (bound by `pagewire run` from `http.listen`; tests bind port 0 and pass their own token).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{metrics, ServiceState};

/// The routes, over one instance's state.
pub fn router(state: Arc<ServiceState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Serves the probes on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    state: Arc<ServiceState>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

/// 200 while the process runs: the liveness probe.
async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 `ready` while connected, bound to the consumer and not draining; otherwise 503 with the
/// reason, so that a load balancer or orchestrator stops sending work here.
async fn readyz(State(state): State<Arc<ServiceState>>) -> impl IntoResponse {
    match state.not_ready_reason() {
        None => (StatusCode::OK, "ready\n".to_owned()),
        Some(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")),
    }
}

/// The Prometheus text exposition.
async fn metrics(State(state): State<Arc<ServiceState>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        state.encode_metrics(),
    )
}
