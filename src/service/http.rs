//! The probe and metrics server: `GET /healthz`, `GET /readyz`, `GET /metrics`.
//!
//! It only reads the shared [`ServiceState`]; it never touches NATS, so a probe answers at once
//! whatever the broker does. [`serve`] takes its listener, its limits and its stop signal as
//! arguments (bound by `pagewire run` from `http.listen`; tests bind port 0 and pass their own
//! token).
//!
//! Clients cannot hold it: a request's headers must arrive within `http.header_read_timeout`,
//! and at most `http.max_connections` connections are open; a new one beyond that closes the
//! oldest connection that is not being answered. So half-sent requests neither pile up file
//! descriptors (which the NATS client needs to reconnect) nor keep a probe out: the probe is
//! always the newest connection and sends its request at once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{metrics, ServiceState};
use crate::config::HttpSettings;

/// The routes, over one instance's state.
pub fn router(state: Arc<ServiceState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// How long open connections get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Serves the probes on `listener` until `shutdown` is cancelled, within the limits of
/// `settings` (`header_read_timeout`, `max_connections`; `listen` is the caller's).
pub async fn serve(
    listener: TcpListener,
    state: Arc<ServiceState>,
    settings: &HttpSettings,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = router(state);
    let open = Arc::new(Connections::default());
    let tracker = TaskTracker::new();
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout);
    loop {
        let accepted = tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, or the peer gave up before the accept: wait a
                // little instead of spinning; connections closing free descriptors.
                tracing::warn!(error = %e, "probe server cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(conn) = open.admit(settings.max_connections) else {
            // Every connection is being answered right now: this one waits for none of them.
            continue;
        };
        let app = app.clone();
        let busy = conn.busy.clone();
        let service = hyper::service::service_fn(move |request| {
            let _answering = Answering::new(&busy);
            let mut app = app.clone();
            // A Router is always ready: no poll_ready needed before call.
            let response = tower_service::Service::call(&mut app, request);
            async move {
                let response = response.await;
                drop(_answering);
                response
            }
        });
        let serving = http1.serve_connection(TokioIo::new(stream), service);
        let open = open.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            tokio::pin!(serving);
            tokio::select! {
                // Answered and closed, or timed out reading headers, or the peer left.
                _ = &mut serving => {}
                // Closed to make room for a newer connection: dropping it closes the socket.
                () = conn.close.cancelled() => {}
                () = shutdown.cancelled() => {
                    serving.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(SHUTDOWN_GRACE, serving).await;
                }
            }
            open.remove(conn.id);
        });
    }
    tracker.close();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE * 2, tracker.wait()).await;
    Ok(())
}

/// The open connections, oldest first.
#[derive(Default)]
struct Connections {
    inner: Mutex<(u64, BTreeMap<u64, Conn>)>,
}

/// One open connection, as the accept loop sees it.
#[derive(Clone)]
struct Conn {
    id: u64,
    /// A request on it is being answered now.
    busy: Arc<AtomicBool>,
    /// Cancelled to close it.
    close: CancellationToken,
}

impl Connections {
    /// Registers a new connection, closing the oldest idle one first when `max` are open;
    /// `None` when all of them are being answered.
    fn admit(&self, max: usize) -> Option<Conn> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (next, open) = &mut *guard;
        if open.len() >= max {
            let oldest_idle = open
                .iter()
                .find(|(_, c)| !c.busy.load(Relaxed))
                .map(|(id, _)| *id)?;
            if let Some(c) = open.remove(&oldest_idle) {
                c.close.cancel();
            }
        }
        *next += 1;
        let conn = Conn {
            id: *next,
            busy: Arc::default(),
            close: CancellationToken::new(),
        };
        open.insert(conn.id, conn.clone());
        Some(conn)
    }

    fn remove(&self, id: u64) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.remove(&id);
    }
}

/// Marks a connection busy while one of its requests is answered.
struct Answering(Arc<AtomicBool>);

impl Answering {
    fn new(busy: &Arc<AtomicBool>) -> Self {
        busy.store(true, Relaxed);
        Answering(busy.clone())
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.store(false, Relaxed);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_limit_the_oldest_idle_connection_makes_room() {
        let open = Connections::default();
        let a = open.admit(3).unwrap();
        let b = open.admit(3).unwrap();
        let _c = open.admit(3).unwrap();
        a.busy.store(true, Relaxed);
        let _d = open.admit(3).unwrap();
        assert!(!a.close.is_cancelled(), "a is being answered");
        assert!(b.close.is_cancelled(), "b was the oldest idle one");
        for c in open.inner.lock().unwrap().1.values() {
            c.busy.store(true, Relaxed);
        }
        assert!(open.admit(3).is_none(), "all busy: the new one is refused");
    }
}
