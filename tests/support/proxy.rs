//! A TCP proxy between the service and the broker that a test can cut and restore: the
//! network fault of the reliability scenarios.
//!
//! [`Proxy::cut`] closes every open connection and refuses new ones (accepted and dropped at
//! once), as a broken link looks to a client: the socket ends, reconnects fail. [`Proxy::restore`]
//! lets connections through again. Runs on the test's tokio runtime.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running proxy. Dropping it stops accepting and closes every connection.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

struct Shared {
    upstream: SocketAddr,
    /// True while the link is cut.
    cut: AtomicBool,
    /// Cancelled to close the connections of the current generation; replaced on each cut.
    generation: Mutex<CancellationToken>,
    /// Connections currently forwarded.
    live: AtomicUsize,
    /// Connections refused while cut.
    refused: AtomicUsize,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` (`nats://host:port` or
    /// `host:port`).
    pub async fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream
            .trim_start_matches("nats://")
            .parse()
            .expect("upstream host:port");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            upstream,
            cut: AtomicBool::new(false),
            generation: Mutex::new(CancellationToken::new()),
            live: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
        });
        let s = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    continue;
                };
                if s.cut.load(Ordering::SeqCst) {
                    // Refused: the client sees its connection end at once.
                    s.refused.fetch_add(1, Ordering::SeqCst);
                    drop(inbound);
                    continue;
                }
                let token = s.generation.lock().expect("proxy lock").clone();
                tokio::spawn(forward(inbound, s.clone(), token));
            }
        });
        Proxy {
            addr,
            shared,
            accept,
        }
    }

    /// `nats://127.0.0.1:<proxy port>`.
    pub fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    /// Cuts the link: closes every open connection, refuses new ones until [`restore`].
    ///
    /// [`restore`]: Proxy::restore
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::SeqCst);
        let mut generation = self.shared.generation.lock().expect("proxy lock");
        generation.cancel();
        *generation = CancellationToken::new();
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.shared.cut.store(false, Ordering::SeqCst);
    }

    /// Connections being forwarded now.
    pub fn live(&self) -> usize {
        self.shared.live.load(Ordering::SeqCst)
    }

    /// Connection attempts refused while cut.
    pub fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.generation.lock().expect("proxy lock").cancel();
    }
}

/// Copies both ways until either side closes or the generation is cancelled; then both
/// sockets are dropped (closed).
async fn forward(mut inbound: TcpStream, shared: Arc<Shared>, token: CancellationToken) {
    let Ok(mut outbound) = TcpStream::connect(shared.upstream).await else {
        return;
    };
    shared.live.fetch_add(1, Ordering::SeqCst);
    tokio::select! {
        _ = token.cancelled() => {}
        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
    }
    shared.live.fetch_sub(1, Ordering::SeqCst);
}
